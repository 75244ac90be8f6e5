// The recording page: one <video> per party, played in step on one clock.
// The server puts every party's segments in #player's data-segments:
// {total, parties: [{segments: [{url, start, dur}]}]}, times in ms from the
// recording's first frame. The shared position is the wall clock while
// playing; each video is given the segment that covers it and its place in
// that segment, and is nudged back when it drifts. Without this script the
// page still lists who was recorded.
"use strict";
(function () {
  const root = document.getElementById("player");
  if (!root) return;
  const data = JSON.parse(root.dataset.segments);
  const videos = data.parties.map((_, i) => document.getElementById("party-" + i));
  const button = document.getElementById("play");
  const seek = document.getElementById("seek");
  const time = document.getElementById("time");
  // Drift tolerated before a video is put back in step (seconds).
  const SLACK = 0.25;
  let playing = false;
  let position = 0; // ms, while paused
  let base = 0; // position when play started
  let since = 0; // performance.now() when play started

  function now() {
    return playing ? Math.min(data.total, base + performance.now() - since) : position;
  }

  function covering(party, t) {
    return data.parties[party].segments.find((s) => t >= s.start && t < s.start + s.dur);
  }

  function clock(ms) {
    const s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // Give one video the segment covering t, at its place in it.
  function place(video, party, t) {
    const seg = covering(party, t);
    if (!seg) {
      video.pause();
      video.classList.add("idle");
      return;
    }
    video.classList.remove("idle");
    if (video.dataset.url !== seg.url) {
      video.dataset.url = seg.url;
      video.dataset.segmentStart = seg.start;
      video.addEventListener("loadedmetadata", () => {
        video.currentTime = Math.max(0, (now() - seg.start) / 1000);
        if (playing) video.play().catch(() => {});
      }, { once: true });
      video.src = seg.url;
      return;
    }
    const want = (t - seg.start) / 1000;
    if (video.readyState >= 1 && Math.abs(video.currentTime - want) > SLACK) {
      video.currentTime = want;
    }
    if (playing && video.paused && video.readyState >= 2) video.play().catch(() => {});
    if (!playing && !video.paused) video.pause();
  }

  function show(t) {
    const text = clock(t) + " / " + clock(data.total);
    seek.value = String(Math.round(t));
    seek.setAttribute("aria-valuetext", text);
    time.textContent = text;
  }

  function update() {
    if (playing && now() >= data.total) stop();
    const t = now();
    videos.forEach((v, i) => place(v, i, t));
    show(t);
  }

  function start() {
    if (position >= data.total) position = 0;
    base = position;
    since = performance.now();
    playing = true;
    button.textContent = button.dataset.pause;
    button.setAttribute("aria-pressed", "true");
    update();
  }

  function stop() {
    position = now();
    playing = false;
    button.textContent = button.dataset.play;
    button.setAttribute("aria-pressed", "false");
    videos.forEach((v) => v.pause());
  }

  button.addEventListener("click", () => (playing ? stop() : start()));
  // The range input moves by arrow keys (step 100 ms), Page Up/Down and
  // Home/End as well as by pointer.
  seek.addEventListener("input", () => {
    const t = Number(seek.value);
    if (playing) {
      base = t;
      since = performance.now();
    } else {
      position = t;
    }
    update();
  });
  videos.forEach((v) => v.addEventListener("ended", update));
  button.setAttribute("aria-pressed", "false");
  setInterval(update, 200);
  update();
})();
