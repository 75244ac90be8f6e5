// The remote visitor's page: camera check, waiting room, the visit, the end.
// Plain JavaScript; the signalling messages are `protocol::signal`'s JSON.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const visitId = location.pathname.split("/").pop();
  const token = new URLSearchParams(location.search).get("token") || "";
  // What the page is doing, for people and for tests.
  const state = (window.visitState = {
    screen: "check", status: null, joined: false, ended: null,
    framesDecoded: 0, audioPackets: 0, fps: 0, warning: null, error: null,
  });
  let local = null, ws = null, pc = null, endsAt = null, iceServers = [];
  let lastFrames = 0, flowingSent = false, firstJoinAt = null, setupMs = null;

  const show = (screen) => {
    for (const s of ["check", "waiting", "visit", "ended"]) $(s).hidden = s !== screen;
    state.screen = screen;
  };
  const send = (m) => { if (ws && ws.readyState === 1) ws.send(JSON.stringify(m)); };
  const showError = (el, text) => { $(el).textContent = text; $(el).hidden = !text; state.error = text || null; };

  // 1. Camera and microphone check, with a self-view and a level meter.
  async function check() {
    try {
      local = await navigator.mediaDevices.getUserMedia({
        video: { width: 1280, height: 720 }, audio: { echoCancellation: true },
      });
      $("self-check").srcObject = local;
      const ctx = new AudioContext();
      const an = ctx.createAnalyser();
      ctx.createMediaStreamSource(local).connect(an);
      const buf = new Uint8Array(an.fftSize);
      setInterval(() => {
        an.getByteTimeDomainData(buf);
        let peak = 0;
        for (const v of buf) peak = Math.max(peak, Math.abs(v - 128));
        $("level").style.width = Math.min(100, peak) + "%";
      }, 100);
      $("continue").disabled = false;
    } catch (e) {
      showError("check-error", "The camera or microphone cannot be used: " + e.message +
        ". Allow them in your browser and reload this page.");
    }
  }

  // 2. The waiting room: the status, and Join once the visit is Ready.
  function setStatus(s) {
    state.status = s;
    const order = ["scheduled", "pending", "ready"];
    const at = s === "in_progress" ? 2 : order.indexOf(s);
    order.forEach((name, i) => {
      $("step-" + name).className = i < at ? "done" : i === at ? "now" : "";
    });
    $("join").disabled = !(s === "ready" || s === "in_progress") || state.joined;
    if (["ended", "cancelled", "terminated", "no_show"].includes(s) && !state.ended) end({ kind: s });
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${scheme}//${location.host}/api/v1/signal/${visitId}?token=${encodeURIComponent(token)}`);
    ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
    ws.onclose = () => {
      if (!state.ended) setTimeout(connect, 1000); // the network came and went
    };
  }

  function onMessage(m) {
    switch (m.type) {
      case "welcome":
        iceServers = m.ice_servers || [];
        endsAt = new Date(m.ends_at);
        setStatus(m.status);
        if (state.joined) send({ type: "join" }); // a reconnect
        break;
      case "status": setStatus(m.status); break;
      case "joined":
        state.joined = true;
        show("visit");
        break;
      case "sdp":
        if (m.kind === "offer") answer(m.sdp);
        break;
      case "ice":
        if (pc && m.candidate) pc.addIceCandidate({ candidate: m.candidate, sdpMLineIndex: m.sdp_mline_index }).catch(() => {});
        break;
      case "warning":
        state.warning = m.minutes_left;
        $("warning").textContent = m.minutes_left === 1 ? "1 minute left" : `${m.minutes_left} minutes left`;
        $("warning").hidden = false;
        break;
      case "ended": end(m.reason); break;
      case "error":
        if (!state.joined) showError("join-error", m.message);
        break;
    }
  }

  // Every offer (from the person's terminal) starts a fresh connection.
  async function answer(sdp) {
    if (pc) pc.close();
    pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
    local.getTracks().forEach((t) => pc.addTrack(t, local));
    pc.ontrack = (ev) => { $("remote").srcObject = ev.streams[0] || new MediaStream([ev.track]); };
    pc.onicecandidate = (ev) => {
      if (ev.candidate && ev.candidate.candidate) {
        send({ type: "ice", candidate: ev.candidate.candidate, sdp_mline_index: ev.candidate.sdpMLineIndex || 0 });
      }
    };
    await pc.setRemoteDescription({ type: "offer", sdp });
    const a = await pc.createAnswer();
    await pc.setLocalDescription(a);
    send({ type: "sdp", kind: "answer", sdp: pc.localDescription.sdp });
  }

  // Once a second: the countdown, and what arrives (framesDecoded).
  setInterval(async () => {
    if (endsAt && state.screen === "visit") {
      const left = Math.max(0, Math.ceil((endsAt - Date.now()) / 60000));
      $("countdown").textContent = left === 1 ? "1 minute left" : `${left} minutes left`;
    }
    if (!pc) return;
    const stats = await pc.getStats();
    let frames = 0, audio = 0;
    stats.forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") frames += r.framesDecoded || 0;
      if (r.type === "inbound-rtp" && r.kind === "audio") audio += r.packetsReceived || 0;
    });
    state.fps = Math.max(0, frames - lastFrames);
    lastFrames = frames;
    state.framesDecoded = frames;
    state.audioPackets = audio;
    $("connecting").hidden = frames > 0;
    if (frames > 0 && !flowingSent) {
      flowingSent = true;
      if (firstJoinAt) setupMs = Date.now() - firstJoinAt;
      send({ type: "media_flowing" });
    }
  }, 1000);

  function end(reason) {
    const text = {
      time_expired: "Visit ended. Time is up.",
      terminated: "Visit ended by staff: " + (reason.reason || ""),
      hung_up: "The visit was ended.",
    }[reason.kind] || "Visit ended.";
    state.ended = reason.kind;
    $("ended-text").textContent = text;
    show("ended");
    if (pc) pc.close();
    if (local) local.getTracks().forEach((t) => t.stop());
  }

  function report() {
    return {
      connected_ms: 0, setup_ms: setupMs, interruptions: [], sessions: pc ? 1 : 0,
      frames_decoded: state.framesDecoded, median_video_kbps: 0, median_rtt_ms: null,
      loss: 0, video_codec: "", audio_packets: state.audioPackets,
    };
  }

  $("continue").onclick = () => { show("waiting"); connect(); };
  $("join").onclick = () => {
    $("join").disabled = true;
    showError("join-error", "");
    firstJoinAt = Date.now();
    send({ type: "join" });
  };
  $("end").onclick = () => { $("confirm").hidden = false; };
  $("keep").onclick = () => { $("confirm").hidden = true; };
  $("confirm-end").onclick = () => {
    send({ type: "call_report", report: report() });
    send({ type: "hang_up" });
    end({ kind: "hung_up" });
  };
  check();
})();
