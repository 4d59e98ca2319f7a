/* audiofeed's audio article player. No framework, no network. Without this script the page
   still plays through the native <audio controls> and shows all the text. */
(function () {
  "use strict";

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  // Subscribe box: copy buttons.
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copy);
      var status = document.querySelector(".subscribe .status");
      function done(ok) { if (status) status.textContent = ok ? "Feed address copied." : "Select the address and copy it."; }
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(document.execCommand("copy")); });
      } else {
        done(document.execCommand("copy"));
      }
    });
  });

  // Only one audio element plays at a time.
  var audios = Array.prototype.slice.call(document.querySelectorAll("audio"));
  audios.forEach(function (a) {
    a.addEventListener("play", function () { audios.forEach(function (b) { if (b !== a) b.pause(); }); });
  });

  var audio = document.getElementById("episode-audio");
  if (!audio) return;
  var controls = document.getElementById("player-controls");
  var play = document.getElementById("play");
  var seek = document.getElementById("seek");
  var position = document.getElementById("position");
  var total = document.getElementById("total");
  var speed = document.getElementById("speed");
  var caption = document.getElementById("caption");
  var cues = Array.prototype.slice.call(document.querySelectorAll("#transcript .cue"));
  var starts = cues.map(function (c) { return parseFloat(c.dataset.start); });
  var current = null;

  controls.hidden = false;
  caption.hidden = false;
  audio.controls = false;
  audio.classList.add("scripted");
  var track = audio.textTracks && audio.textTracks[0];
  if (track) track.mode = "hidden";  // loaded, drawn by us below the player

  function duration() {
    return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : parseFloat(audio.dataset.durationMs) / 1000;
  }

  function highlight() {
    var t = audio.currentTime, i = -1, lo = 0, hi = starts.length - 1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (starts[mid] <= t + 0.001) { i = mid; lo = mid + 1; } else { hi = mid - 1; } }
    var cue = i >= 0 ? cues[i] : null;
    if (cue === current) return;
    if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
    current = cue;
    if (cue) { cue.classList.add("current"); cue.setAttribute("aria-current", "true"); }
    caption.textContent = cue ? cue.textContent : "";
  }

  function update() {
    position.textContent = clock(audio.currentTime);
    total.textContent = clock(duration());
    seek.max = duration().toFixed(3);
    if (document.activeElement !== seek) seek.value = audio.currentTime;
    seek.setAttribute("aria-valuetext", clock(audio.currentTime) + " of " + clock(duration()));
    highlight();
  }

  function setPlaying() {
    var playing = !audio.paused;
    play.classList.toggle("playing", playing);
    play.setAttribute("aria-label", playing ? "Pause" : "Play");
  }

  function jump(seconds, andPlay) {
    audio.currentTime = Math.min(Math.max(0, seconds), duration());
    update();
    if (andPlay) audio.play().catch(function () {});
  }

  play.addEventListener("click", function () { if (audio.paused) audio.play().catch(function () {}); else audio.pause(); });
  document.getElementById("back").addEventListener("click", function () { jump(audio.currentTime - 15); });
  document.getElementById("forward").addEventListener("click", function () { jump(audio.currentTime + 15); });
  seek.addEventListener("input", function () { jump(parseFloat(seek.value)); });
  speed.addEventListener("change", function () { audio.playbackRate = parseFloat(speed.value); });
  document.querySelectorAll("button.chapter, #transcript .cue").forEach(function (b) {
    b.addEventListener("click", function () { jump(parseFloat(b.dataset.start), true); });
  });
  ["timeupdate", "seeked", "loadedmetadata", "durationchange"].forEach(function (e) { audio.addEventListener(e, update); });
  ["play", "pause", "ended"].forEach(function (e) { audio.addEventListener(e, setPlaying); });
  update();
  setPlaying();
})();
