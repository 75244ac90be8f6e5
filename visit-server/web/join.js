// The remote visitor's page: camera check, waiting room, the visit, the end.
// Plain JavaScript; the signalling messages are `protocol::signal`'s JSON.
//
// Several visitors may be in one visit. Each has one connection with the
// person's terminal (video and sound both ways; the terminal offers) and,
// so that every visitor hears every other, an audio-only connection with
// each other visitor (the one who joined later offers). Messages name
// their peer: `to` on the way out, `from` on the way in.
//
// Opened with a housing-unit terminal's browser token, the page is the
// person's side instead (as a browser-based kiosk would be): it offers a
// connection (video and sound both ways) to each visitor, like kiosk-app.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const visitId = location.pathname.split("/").pop();
  const token = new URLSearchParams(location.search).get("token") || "";
  const person = document.body.dataset.side === "person";
  // What the page is doing, for people and for tests.
  const state = (window.visitState = {
    screen: "check", status: null, joined: false, ended: null,
    framesDecoded: 0, audioPackets: 0, fps: 0, warning: null, error: null,
    // The other visitors, by id: { name, audioPackets }.
    visitors: {},
    side: person ? "person" : "visitor",
    // The other side's devices that do not work (its `device` messages).
    peerLost: { camera: false, microphone: false },
    // ...and each change of them, in order ("microphone lost", "microphone back").
    peerDeviceLog: [],
    // The video codec received ("VP8"), and why nothing (or no picture)
    // arrives: "no_common_video", "network_blocked", "no_picture".
    videoCodec: null, problem: null,
  });
  let local = null, ws = null, pc = null, endsAt = null, iceServers = [];
  let you = null, personId = null;
  // Audio-only connections with the other visitors, by their id.
  const mesh = new Map();
  // Person's side: a connection with each visitor, by their id.
  const sessions = new Map();
  let lastFrames = 0, flowingSent = false, firstJoinAt = null, setupMs = null, joinedAt = null;
  // Media that has not come this long after joining gets a reason.
  const EXPLAIN_AFTER_MS = 10000;
  const PROBLEMS = {
    no_common_video: "Sound only: the two sides have no video format in common.",
    network_blocked: "The network is blocking this call.",
    no_picture: "You can hear them, but their camera sends no picture.",
  };
  // Sound first: its line leads the bundle, so a refused video line never
  // takes the sound with it.
  const tracksSoundFirst = () => [...local.getAudioTracks(), ...local.getVideoTracks()];

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
      // A camera or microphone unplugged mid-visit: tell the other side
      // (sound or picture stops here; they would not know why).
      for (const t of local.getTracks()) {
        t.addEventListener("ended", () =>
          send({ type: "device", device: t.kind === "video" ? "camera" : "microphone", available: false }));
      }
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
    // The person's join is what makes the visit Ready.
    $("join").disabled = !(person || s === "ready" || s === "in_progress") || state.joined;
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
        you = m.you;
        iceServers = m.ice_servers || [];
        endsAt = new Date(m.ends_at);
        setStatus(m.status);
        if (state.joined) send({ type: "join" }); // a reconnect
        break;
      case "status": setStatus(m.status); break;
      case "peer_device":
        // Only the other side's devices matter here (not another visitor's).
        if ((m.side === "person") !== person) {
          state.peerLost[m.device] = !m.available;
          state.peerDeviceLog.push(`${m.device} ${m.available ? "back" : "lost"}`);
          const who = person ? "The visitor's" : "The person's";
          const lost = state.peerLost.microphone ? "microphone" : state.peerLost.camera ? "camera" : null;
          $("peer-notice").textContent = lost ? `${who} ${lost} is not working.` : "";
          $("peer-notice").hidden = !lost;
        }
        break;
      case "joined":
        state.joined = true;
        // A visitor joins once the person is in; the person's page counts
        // from its first offer.
        if (!person && !joinedAt) joinedAt = Date.now();
        show("visit");
        if (person) {
          for (const p of m.peers || []) if (p.side === "visitor") offerTo(p.id, p.name);
          break;
        }
        // The newcomer calls each visitor already there (audio only).
        for (const p of m.peers || []) {
          if (p.side === "person") personId = p.id;
          else callVisitor(p.id, p.name);
        }
        break;
      case "peer_joined":
        if (person) {
          if (m.side === "visitor" && state.joined) offerTo(m.id, m.name);
          break;
        }
        if (m.side === "person") personId = m.id;
        else meet(m.id, m.name);
        break;
      case "peer_left":
        if (person) {
          if (m.side === "visitor") hangUpSession(m.id);
          break;
        }
        if (m.side === "visitor") hangUpVisitor(m.id);
        break;
      case "sdp":
        if (person) {
          const c = sessions.get(m.from);
          if (c && m.kind === "answer") c.setRemoteDescription({ type: "answer", sdp: m.sdp }).catch(() => {});
          break;
        }
        // Visitors are announced (joined, peer_joined) before they call.
        if (m.from === personId || !state.visitors[m.from]) {
          personId = m.from;
          if (m.kind === "offer") answer(m.sdp);
        } else if (m.kind === "offer") {
          answerVisitor(m.from, m.sdp);
        } else if (mesh.has(m.from)) {
          mesh.get(m.from).setRemoteDescription({ type: "answer", sdp: m.sdp }).catch(() => {});
        }
        break;
      case "ice": {
        const to = person ? sessions.get(m.from) : m.from === personId ? pc : mesh.get(m.from);
        if (to && m.candidate) to.addIceCandidate({ candidate: m.candidate, sdpMLineIndex: m.sdp_mline_index }).catch(() => {});
        break;
      }
      case "warning":
        state.warning = m.minutes_left;
        $("warning").textContent = m.minutes_left === 1 ? "1 minute left" : `${m.minutes_left} minutes left`;
        $("warning").hidden = false;
        break;
      case "ended": end(m.reason); break;
      case "error":
        if (!state.joined) {
          showError("join-error", m.message);
          if (person) $("join").disabled = false; // e.g. too early: try again
        }
        break;
    }
  }

  // One negotiation path for every connection the page makes (with the
  // person, with each visitor as the person, with each other visitor):
  // a fresh connection sending `tracks`, showing what it receives in
  // `sink`, its ICE sent to peer `to`...
  function connection(to, tracks, sink) {
    const c = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
    tracks.forEach((t) => c.addTrack(t, local));
    c.ontrack = (ev) => { sink.srcObject = ev.streams[0] || new MediaStream([ev.track]); };
    c.onicecandidate = (ev) => {
      if (ev.candidate && ev.candidate.candidate) {
        send({ type: "ice", candidate: ev.candidate.candidate, sdp_mline_index: ev.candidate.sdpMLineIndex || 0, to });
      }
    };
    return c;
  }

  // ...which then offers (no `offer` given) or answers the peer's offer.
  async function negotiate(c, to, offer) {
    if (offer) await c.setRemoteDescription({ type: "offer", sdp: offer });
    await c.setLocalDescription(offer ? await c.createAnswer() : await c.createOffer());
    send({ type: "sdp", kind: offer ? "answer" : "offer", sdp: c.localDescription.sdp, to });
  }

  // Every offer (from the person's terminal) starts a fresh connection.
  async function answer(sdp) {
    if (pc) pc.close();
    const to = personId;
    pc = connection(to, tracksSoundFirst(), $("remote"));
    await negotiate(pc, to, sdp);
  }

  // Person's side: a fresh connection to a visitor, and the offer. The
  // first visitor's picture is the big one; others get a tile in the list.
  async function offerTo(id, name) {
    hangUpSession(id);
    const video = sessions.size > 0 ? meetTile(id, name) : $("remote");
    const c = connection(id, tracksSoundFirst(), video);
    sessions.set(id, c);
    if (!joinedAt) joinedAt = Date.now();
    state.visitors[id] = { name: name || "", audioPackets: 0 };
    await negotiate(c, id);
  }

  function meetTile(id, name) {
    const li = document.createElement("li");
    li.id = "visitor-" + id;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    li.append(document.createTextNode(name || "Visitor"), video);
    $("others-list").append(li);
    $("others").hidden = false;
    return video;
  }

  function hangUpSession(id) {
    const c = sessions.get(id);
    if (c) c.close();
    sessions.delete(id);
    delete state.visitors[id];
    const li = document.getElementById("visitor-" + id);
    if (li) li.remove();
  }

  // Another visitor: their name in the list, their sound from an <audio>.
  function meet(id, name) {
    if (!state.visitors[id]) state.visitors[id] = { name: name || "", audioPackets: 0 };
    let li = document.getElementById("visitor-" + id);
    if (!li) {
      li = document.createElement("li");
      li.id = "visitor-" + id;
      const audio = document.createElement("audio");
      audio.autoplay = true;
      li.append(document.createTextNode(name || "Visitor"), audio);
      $("others-list").append(li);
    }
    $("others").hidden = false;
    return li.querySelector("audio");
  }

  // Another visitor: an audio-only connection (replacing any before).
  function visitorConnection(id, name) {
    const old = mesh.get(id);
    if (old) old.close();
    const c = connection(id, local.getAudioTracks(), meet(id, name));
    mesh.set(id, c);
    return c;
  }

  async function callVisitor(id, name) {
    await negotiate(visitorConnection(id, name), id);
  }

  async function answerVisitor(id, sdp) {
    const c = visitorConnection(id, state.visitors[id] && state.visitors[id].name);
    await negotiate(c, id, sdp);
  }

  function hangUpVisitor(id) {
    const c = mesh.get(id);
    if (c) c.close();
    mesh.delete(id);
    delete state.visitors[id];
    const li = document.getElementById("visitor-" + id);
    if (li) li.remove();
    $("others").hidden = mesh.size === 0;
  }

  // Once a second: the countdown, and what arrives (framesDecoded).
  setInterval(async () => {
    if (endsAt && state.screen === "visit") {
      const left = Math.max(0, Math.ceil((endsAt - Date.now()) / 60000));
      $("countdown").textContent = left === 1 ? "1 minute left" : `${left} minutes left`;
    }
    for (const [id, c] of mesh) {
      const st = await c.getStats();
      let audio = 0;
      st.forEach((r) => { if (r.type === "inbound-rtp" && r.kind === "audio") audio += r.packetsReceived || 0; });
      if (state.visitors[id]) state.visitors[id].audioPackets = audio;
    }
    const conns = person ? [...sessions.values()] : pc ? [pc] : [];
    if (conns.length === 0) return;
    let frames = 0, audio = 0, videoRefused = false;
    for (const c of conns) {
      const stats = await c.getStats();
      stats.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") {
          frames += r.framesDecoded || 0;
          const codec = r.codecId && stats.get(r.codecId);
          if (codec && codec.mimeType) state.videoCodec = codec.mimeType.replace(/^video\//, "");
        }
        if (r.type === "inbound-rtp" && r.kind === "audio") audio += r.packetsReceived || 0;
      });
      // A video line answered inactive (or refused): no format in common.
      for (const t of c.getTransceivers()) {
        if (t.receiver.track && t.receiver.track.kind === "video" && t.currentDirection === "inactive") videoRefused = true;
      }
    }
    state.fps = Math.max(0, frames - lastFrames);
    lastFrames = frames;
    state.framesDecoded = frames;
    state.audioPackets = audio;
    explain(frames, audio, videoRefused);
    if (frames > 0 && !flowingSent) {
      flowingSent = true;
      if (firstJoinAt) setupMs = Date.now() - firstJoinAt;
      send({ type: "media_flowing" });
    }
  }, 1000);

  // Say why nothing (or no picture) has come since joining, instead of a
  // silent "Connecting…", and tell the server (the visit's history).
  function explain(frames, audio, videoRefused) {
    let problem = null;
    if (videoRefused) problem = "no_common_video";
    else if (frames === 0 && joinedAt && Date.now() - joinedAt >= EXPLAIN_AFTER_MS) {
      problem = audio > 0 ? "no_picture" : "network_blocked";
    }
    if (problem !== state.problem) {
      state.problem = problem;
      if (problem) send({ type: "media_problem", problem });
    }
    const soundGoesOn = audio > 0 && problem;
    $("connecting").textContent = problem ? PROBLEMS[problem] : "Connecting…";
    $("connecting").hidden = frames > 0 || soundGoesOn;
    $("media-notice").textContent = soundGoesOn ? PROBLEMS[problem] : "";
    $("media-notice").hidden = !soundGoesOn;
  }

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
    for (const c of mesh.values()) c.close();
    mesh.clear();
    for (const c of sessions.values()) c.close();
    sessions.clear();
    if (local) local.getTracks().forEach((t) => t.stop());
  }

  function report() {
    return {
      connected_ms: 0, setup_ms: setupMs, interruptions: [], sessions: person ? sessions.size : pc ? 1 : 0,
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
