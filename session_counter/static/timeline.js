// The race timeline: one lane per process and thread, each request a bar from its read to
// its answer, as the server measured them (X-Race-Trace). Choosing a duplicate opens its
// story, told by the server (race/story.py, the terminal's text), and steps through it
// event by event: a replay of what was measured, not a simulation.
(function () {
  "use strict";

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function startOf(t) { return t.read_at !== null ? t.read_at : t.wrote_at; }

  function lostClients(result) {
    var story = result.stories && result.stories.lost_update;
    return new Set(story ? story.clients : []);
  }

  // What a screen reader hears for one bar (and what its visible label abbreviates).
  function describe(client, t, marks) {
    var parts = ["client " + client, "process " + t.pid, "thread " + t.thread];
    if (t.read_value !== null) parts.push("read " + t.read_value);
    if (t.wrote_value !== null) parts.push("wrote " + t.wrote_value);
    parts.push("answered " + (t.value === null ? "nothing" : t.value));
    return parts.concat(marks).join(", ");
  }

  function explainBox(name) {
    var box = element("section", "race-explain");
    box.setAttribute("data-testid", "race-explain");
    box.setAttribute("aria-label", "story of a duplicate of " + name);
    box.setAttribute("tabindex", "-1");
    box.hidden = true;
    return box;
  }

  // Show one story: its text (the terminal's), its events, and step buttons.
  function openStory(box, bars, story, times) {
    box.textContent = "";
    box.hidden = false;
    box.appendChild(element("h4", "", "Number " + story.value + ", handed out " +
      (times > 2 ? times + " times: the first two to answer" : "twice")));
    var text = element("p", "story-text", story.text);
    text.setAttribute("data-testid", "race-explain-text");
    box.appendChild(text);
    var list = element("ol", "story-events");
    story.events.forEach(function (e) {
      list.appendChild(element("li", "", e.text + " (process " + e.pid + ", t=+" +
                                         e.at_ms.toFixed(1) + " ms)"));
    });
    box.appendChild(list);
    var now = element("p", "story-step");
    now.setAttribute("role", "status");
    now.setAttribute("data-testid", "race-explain-step");
    var back = element("button", "quiet", "previous event");
    var next = element("button", "", "next event");
    back.type = next.type = "button";
    var step = -1;
    function show(i) {
      step = i;
      Array.prototype.forEach.call(list.children, function (li, j) {
        li.classList.toggle("current", j === i);
        if (j === i) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
      });
      var e = story.events[i];
      bars.forEach(function (bar) {
        bar.classList.toggle("current", Number(bar.getAttribute("data-client")) === e.client);
      });
      now.textContent = "Event " + (i + 1) + " of " + story.events.length + ": " + e.text;
      back.disabled = i === 0;
      next.disabled = i === story.events.length - 1;
    }
    back.addEventListener("click", function () { if (step > 0) show(step - 1); });
    next.addEventListener("click", function () {
      if (step < story.events.length - 1) show(step + 1);
    });
    var buttons = element("div", "buttons");
    buttons.appendChild(back);
    buttons.appendChild(next);
    box.appendChild(buttons);
    box.appendChild(now);
    show(0);
    box.focus({preventScroll: window.matchMedia("(prefers-reduced-motion: reduce)").matches});
  }

  window.raceTimeline = function (name, result) {
    var traces = result.trace || [];
    var wrap = element("div", "race-timeline-wrap");
    var timed = traces.filter(function (t) { return startOf(t) !== null && t.answered_at !== null; });
    if (!timed.length) return wrap;
    var t0 = Math.min.apply(null, timed.map(startOf));
    var t1 = Math.max.apply(null, timed.map(function (t) { return t.answered_at; }));
    var span = Math.max(t1 - t0, 1e-6);
    function percent(s) { return Math.min(100, Math.max(0, (s - t0) / span * 100)); }
    // the share of the track a label ("17 DUP LOST", ~6rem) needs: no label covers another
    var labelShare = Math.min(0.5, 96 / Math.max(160, window.innerWidth - 260));
    var dups = new Set(result.duplicated_values || []);
    var lost = lostClients(result);
    var stories = result.duplicate_stories || {};
    var figure = element("figure", "race-timeline");
    figure.setAttribute("data-testid", "race-timeline");
    figure.appendChild(element("figcaption", "note",
      "Timeline of " + name + ": one lane per process and thread, each request a bar from its " +
      "read to its answer (" + (span * 1000).toFixed(1) + " ms in all). DUP marks a number " +
      "handed out more than once (choose it to see its story), LOST an increment overwritten."));
    var lanes = new Map();
    traces.forEach(function (t, i) {
      var key = t.pid + " / " + t.thread;
      if (!lanes.has(key)) lanes.set(key, []);
      lanes.get(key).push(i);
    });
    var box = explainBox(name);
    var bars = [];
    Array.from(lanes.keys()).sort().forEach(function (key) {
      var lane = element("div", "race-lane");
      var label = element("span", "race-lane-label", "process " + key.replace(" / ", ", "));
      lane.appendChild(label);
      var track = element("ol", "race-track");
      track.setAttribute("aria-label", "requests of process " + key);
      var rowEnds = []; // overlapping requests of one lane (greenlets) stack in rows
      lanes.get(key).forEach(function (i) {
        var t = traces[i], client = i + 1;
        var marks = [];
        if (t.value !== null && dups.has(t.value)) marks.push("duplicate");
        if (lost.has(client)) marks.push("lost update");
        var item = element("li", "race-bar" + (marks.length ? " marked" : ""));
        item.setAttribute("data-testid", "race-timeline-request");
        item.setAttribute("data-client", String(client));
        item.setAttribute("data-marks", marks.join(","));
        var start = startOf(t);
        if (start !== null && t.answered_at !== null) {
          // near the right edge the label runs left from the bar's end, else right from its start
          var late = start + span * labelShare > t1;
          var from = late ? Math.min(start, t.answered_at - span * labelShare) : start;
          var row = rowEnds.findIndex(function (end) { return end <= from; });
          if (row < 0) row = rowEnds.push(0) - 1;
          rowEnds[row] = late ? t.answered_at : Math.max(t.answered_at, start + span * labelShare);
          if (late) item.classList.add("late");
          item.style.left = percent(start) + "%";
          item.style.width = Math.max(0.5, percent(t.answered_at) - percent(start)) + "%";
          item.style.top = (row * 1.7) + "rem";
        }
        var shown = (t.value === null ? "?" : String(t.value)) +
          (marks.indexOf("duplicate") >= 0 ? " DUP" : "") + (marks.indexOf("lost update") >= 0 ? " LOST" : "");
        var story = t.value !== null ? stories[String(t.value)] : null;
        var body;
        if (story) {
          body = element("button", "race-bar-button", shown);
          body.type = "button";
          body.setAttribute("aria-label", describe(client, t, marks) + "; open its story");
          var times = traces.filter(function (o) { return o.value === t.value; }).length;
          body.addEventListener("click", function () { openStory(box, bars, story, times); });
        } else {
          body = element("span", "", shown);
          body.setAttribute("title", describe(client, t, marks));
          item.appendChild(element("span", "visually-hidden", describe(client, t, marks)));
          body.setAttribute("aria-hidden", "true");
        }
        item.insertBefore(body, item.firstChild);
        bars.push(item);
        track.appendChild(item);
      });
      track.style.height = (Math.max(rowEnds.length, 1) * 1.7) + "rem";
      lane.appendChild(track);
      figure.appendChild(lane);
    });
    wrap.appendChild(figure);
    wrap.appendChild(box);
    return wrap;
  };
})();
