/* audiofeed's audio article player. No framework, no network. Without this script the page
   still plays through the native <audio controls> and shows all the text.

   Habits of podcast players it keeps: links that start at a time (#t=75, #t=1:15), resuming
   where the listener left off, the lock screen and headset keys (Media Session), keyboard
   shortcuts, a transcript search and a "follow along" transcript. */
(function () {
  "use strict";

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  // A time as a media fragment gives it: "75", "75.5", "1:15", "1:02:03", "npt:75"; NaN if none.
  function parseTime(value) {
    value = String(value || "").replace(/^npt:/, "");
    if (!/^\d+(:\d{1,2}){0,2}(\.\d+)?$/.test(value)) return NaN;
    return value.split(":").reduce(function (total, part) { return total * 60 + parseFloat(part); }, 0);
  }

  function hashTime() {
    var m = /(?:^#|&)t=([^&]+)/.exec(location.hash);
    return m ? parseTime(decodeURIComponent(m[1])) : NaN;
  }

  function linkAt(seconds) {
    var t = Math.max(0, Math.round(seconds * 1000) / 1000);
    return location.href.split("#")[0] + "#t=" + t;
  }

  function copyText(text, status, what) {
    function done(ok) {
      if (status) status.textContent = ok ? what + " copied: " + text : "Copy this " + what.toLowerCase() + ": " + text;
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      done(false);
    }
  }

  // Copy buttons: the subscribe box's feed addresses, the embed code.
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copy);
      var status = document.getElementById(button.dataset.status || "") || document.querySelector(".subscribe .status");
      function done(ok) { if (status) status.textContent = ok ? (button.dataset.done || "Feed address copied.") : "Select the text and copy it."; }
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
  var page = document.querySelector("[data-page]");
  var controls = document.getElementById("player-controls");
  var play = document.getElementById("play");
  var seek = document.getElementById("seek");
  var position = document.getElementById("position");
  var total = document.getElementById("total");
  var speed = document.getElementById("speed");
  var caption = document.getElementById("caption");
  var status = document.getElementById("share-status");
  var search = document.getElementById("search");
  var searchCount = document.getElementById("search-count");
  var follow = document.getElementById("follow");
  var cues = Array.prototype.slice.call(document.querySelectorAll("#transcript .cue"));
  var starts = cues.map(function (c) { return parseFloat(c.dataset.start); });
  var chapters = Array.prototype.slice.call(document.querySelectorAll("button.chapter")).map(function (b) {
    return { start: parseFloat(b.dataset.start), title: b.dataset.question, doctor: b.dataset.doctor };
  });
  var current = null, chapter = -1;

  controls.hidden = false;
  caption.hidden = false;
  document.querySelectorAll(".shortcuts, .embed, .transcript-tools, button.share").forEach(function (el) { el.hidden = false; });
  audio.controls = false;
  audio.classList.add("scripted");
  var track = audio.textTracks && audio.textTracks[0];
  if (track) track.mode = "hidden";  // loaded, drawn by us below the player

  function duration() {
    return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : parseFloat(audio.dataset.durationMs) / 1000;
  }

  function indexAt(list, t) {  // the last entry starting at or before t (binary search), -1 if none
    var i = -1, lo = 0, hi = list.length - 1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (list[mid] <= t + 0.001) { i = mid; lo = mid + 1; } else { hi = mid - 1; } }
    return i;
  }

  // -- the lock screen, headsets and media keys (Media Session) -----------------------------------
  var session = "mediaSession" in navigator ? navigator.mediaSession : null;
  var cover = page && new URL(page.dataset.cover, location.href).href;

  function showChapter(i) {
    if (i === chapter) return;
    chapter = i;
    if (!session || !window.MediaMetadata || i < 0) return;
    session.metadata = new MediaMetadata({
      title: chapters[i].title, artist: chapters[i].doctor, album: page ? page.dataset.show : "",
      artwork: cover ? [{ src: cover, sizes: "1400x1400", type: "image/png" }] : []
    });
  }

  function highlight() {
    var i = indexAt(starts, audio.currentTime);
    var cue = i >= 0 ? cues[i] : null;
    showChapter(indexAt(chapters.map(function (c) { return c.start; }), audio.currentTime));
    if (cue === current) return;
    if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
    current = cue;
    if (cue) {
      cue.classList.add("current");
      cue.setAttribute("aria-current", "true");
      if (follow && follow.checked && !audio.paused) cue.scrollIntoView({ block: "nearest" });
    }
    caption.textContent = cue ? cue.textContent : "";
  }

  // -- resuming: the position of this page's episode, kept in the browser --------------------------
  var storeKey = "audiofeed:position:" + (page ? page.dataset.page : location.pathname);
  var saved = 0;

  function remember() {
    try {
      if (audio.ended) localStorage.removeItem(storeKey);  // finished: next time starts from 0
      else if (audio.currentTime > 0) localStorage.setItem(storeKey, audio.currentTime.toFixed(1));
    } catch (e) { /* storage refused (private mode): nothing to resume */ }
  }

  function update() {
    position.textContent = clock(audio.currentTime);
    total.textContent = clock(duration());
    seek.max = duration().toFixed(3);
    if (document.activeElement !== seek) seek.value = audio.currentTime;
    seek.setAttribute("aria-valuetext", clock(audio.currentTime) + " of " + clock(duration()));
    highlight();
    if (Math.abs(audio.currentTime - saved) >= 2) { saved = audio.currentTime; remember(); }
    if (session && session.setPositionState && isFinite(audio.duration)) {
      try { session.setPositionState({ duration: audio.duration, playbackRate: audio.playbackRate, position: Math.min(audio.currentTime, audio.duration) }); } catch (e) { /* not yet known */ }
    }
  }

  function setPlaying() {
    var playing = !audio.paused;
    play.classList.toggle("playing", playing);
    play.setAttribute("aria-label", playing ? "Pause" : "Play");
    if (session) session.playbackState = playing ? "playing" : "paused";
  }

  function jump(seconds, andPlay) {
    audio.currentTime = Math.min(Math.max(0, seconds), duration());
    update();
    if (andPlay) audio.play().catch(function () {});
  }

  function toggle() { if (audio.paused) audio.play().catch(function () {}); else audio.pause(); }

  function previousChapter() {
    var t = audio.currentTime, i = indexAt(chapters.map(function (c) { return c.start; }), t);
    if (i < 0) return jump(0);
    jump(t - chapters[i].start > 3 || i === 0 ? chapters[i].start : chapters[i - 1].start);
  }

  function nextChapter() {
    var t = audio.currentTime;
    for (var i = 0; i < chapters.length; i++) if (chapters[i].start > t + 0.5) return jump(chapters[i].start);
  }

  var actions = {
    play: function () { audio.play().catch(function () {}); },
    pause: function () { audio.pause(); },
    seekbackward: function (d) { jump(audio.currentTime - ((d && d.seekOffset) || 15)); },
    seekforward: function (d) { jump(audio.currentTime + ((d && d.seekOffset) || 15)); },
    seekto: function (d) { jump(d.seekTime); },
    previoustrack: previousChapter,
    nexttrack: nextChapter
  };
  if (session) {
    Object.keys(actions).forEach(function (name) {
      try { session.setActionHandler(name, actions[name]); } catch (e) { /* an action this browser lacks */ }
    });
  }

  play.addEventListener("click", toggle);
  document.getElementById("back").addEventListener("click", function () { jump(audio.currentTime - 15); });
  document.getElementById("forward").addEventListener("click", function () { jump(audio.currentTime + 15); });
  seek.addEventListener("input", function () { jump(parseFloat(seek.value)); });
  speed.addEventListener("change", function () { audio.playbackRate = parseFloat(speed.value); });
  document.querySelectorAll("button.chapter, #transcript .cue").forEach(function (b) {
    b.addEventListener("click", function () { jump(parseFloat(b.dataset.start), true); });
  });

  // -- links that start at a time ----------------------------------------------------------------
  document.querySelectorAll(".chapters button.share").forEach(function (b) {
    b.addEventListener("click", function () { copyText(linkAt(parseFloat(b.dataset.start)), status, "Link"); });
  });
  var shareSentence = document.getElementById("share-sentence");
  if (shareSentence) shareSentence.addEventListener("click", function () {
    copyText(linkAt(current ? parseFloat(current.dataset.start) : audio.currentTime), status, "Link");
  });

  function startAt(seconds, why) {
    function go() { jump(seconds); if (status && why) status.textContent = why + clock(seconds) + "."; }
    if (audio.readyState >= 1) go(); else audio.addEventListener("loadedmetadata", go, { once: true });
  }

  function fromHash() {
    var t = hashTime();
    if (!isNaN(t)) startAt(t, "Starting at ");
    return !isNaN(t);
  }
  window.addEventListener("hashchange", fromHash);
  if (!fromHash()) {
    var stored = NaN;
    try { stored = parseFloat(localStorage.getItem(storeKey)); } catch (e) { /* no storage */ }
    if (stored > 0 && stored < duration() - 1) { saved = stored; startAt(stored, "Resuming at "); }
  }
  ["pause", "ended"].forEach(function (e) { audio.addEventListener(e, remember); });
  window.addEventListener("pagehide", remember);

  // -- transcript search and follow along ------------------------------------------------------------
  var matches = [];
  if (search) {
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      matches = [];
      cues.forEach(function (c) {
        var hit = q.length > 0 && c.textContent.toLowerCase().indexOf(q) >= 0;
        c.classList.toggle("match", hit);
        if (hit) matches.push(c);
      });
      searchCount.textContent = q ? matches.length + (matches.length === 1 ? " sentence matches" : " sentences match") +
        (matches.length ? "; press Enter to go to the next" : "") : "";
    });
    search.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { search.value = ""; search.dispatchEvent(new Event("input")); return; }
      if (e.key !== "Enter" || !matches.length) return;
      e.preventDefault();
      var t = audio.currentTime, next = matches.find(function (c) { return parseFloat(c.dataset.start) > t + 0.01; }) || matches[0];
      jump(parseFloat(next.dataset.start));
      next.scrollIntoView({ block: "center" });
    });
  }

  // -- keyboard shortcuts (listed on the page) ---------------------------------------------------
  document.addEventListener("keydown", function (e) {
    var el = e.target, tag = el && el.tagName;
    if (e.ctrlKey || e.metaKey || (el && el.isContentEditable) || tag === "TEXTAREA" ||
        (tag === "INPUT" && el.type !== "checkbox" && el.type !== "range") || tag === "SELECT") return;
    var onControl = tag === "BUTTON" || tag === "A" || tag === "SUMMARY" || tag === "INPUT";
    if (e.altKey && (e.key === "ArrowLeft" || e.key === "ArrowRight")) {
      e.preventDefault();
      if (e.key === "ArrowLeft") previousChapter(); else nextChapter();
    } else if (e.altKey || e.shiftKey) {
      return;
    } else if (e.key === "k" || (e.key === " " && !onControl)) {
      e.preventDefault(); toggle();
    } else if ((e.key === "ArrowLeft" || e.key === "ArrowRight") && !(tag === "INPUT" && el.type === "range")) {
      e.preventDefault(); jump(audio.currentTime + (e.key === "ArrowLeft" ? -15 : 15));
    } else if (e.key === "/" && search) {
      e.preventDefault(); search.focus();
    }
  });

  ["timeupdate", "seeked", "loadedmetadata", "durationchange"].forEach(function (e) { audio.addEventListener(e, update); });
  ["play", "pause", "ended"].forEach(function (e) { audio.addEventListener(e, setPlaying); });
  update();
  setPlaying();

  // What the Media Session's actions do, for anything that wants to drive the player as the OS would.
  window.audiofeedPlayer = { actions: actions, chapters: chapters, parseTime: parseTime };
})();
