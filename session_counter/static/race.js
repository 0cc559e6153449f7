// The race panel: fire N requests at once from this page, then let the server judge them
// (POST /api/race/analyse runs the same analysis as `flask --app session_counter race`).
// Each run counts in counters of its own: POST /api/race/start issues a race id, every
// request names it (X-Race-Id), and the table's counters and other visitors' races stay
// as they were; POST /api/race/<id>/finish drops them.
(function () {
  "use strict";

  var BURST = 24; // reads per strategy, so every worker process gets some
  var READ_TRIES = 4;
  var MAX_BOXES = 2000; // past this many numbers, draw only the ones handed out

  var panel = document.querySelector('[data-testid="race-panel"]');
  if (!panel) return;
  var form = panel.querySelector("form");
  var button = panel.querySelector('[data-testid="race-run"]');
  var status = panel.querySelector('[data-testid="race-status"]');
  var results = panel.querySelector(".race-results");
  var MAX_CLIENTS = Number(form.elements.clients.max); // the server's limit, from the page
  var running = false;

  function intOrNull(value) {
    return Number.isInteger(value) ? value : null;
  }

  // One request without cookies: this browser's session lock would make them take turns.
  // The increments ask for their measured trace (X-Race-Trace: 1), which the timeline draws.
  function send(method, url, headers) {
    return fetch(url, {method: method, credentials: "omit", cache: "no-store",
                       headers: Object.assign({Accept: "application/json"}, headers || {})})
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          body = body || {};
          return {status: response.status, value: intOrNull(body.value),
                  pid: intOrNull(body.pid),
                  thread: typeof body.thread === "string" ? body.thread : null,
                  retries: intOrNull(body.retries), // compare-and-swap strategies only
                  trace: body.trace && typeof body.trace === "object" ? body.trace : null};
        });
      })
      .catch(function () { return {status: 0, value: null, pid: null, thread: null}; });
  }

  function burst(n, method, url, headers) {
    var sent = [];
    for (var i = 0; i < n; i++) sent.push(send(method, url, headers));
    return Promise.all(sent);
  }

  // Read the counter until every process that answered was read (a busy one may miss a burst).
  function readBack(base, answers, reads, tries, headers) {
    return burst(BURST, "GET", base, headers).then(function (got) {
      reads = reads.concat(got);
      var read = new Set(reads.map(function (a) { return a.pid; }));
      var missing = answers.some(function (a) { return a.pid !== null && !read.has(a.pid); });
      return missing && tries > 1 ? readBack(base, answers, reads, tries - 1, headers) : reads;
    });
  }

  function postJSON(url) {
    return fetch(url, {method: "POST", credentials: "omit", cache: "no-store",
                       headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) throw new Error(body.message || "HTTP " + response.status);
          return body;
        });
      });
  }

  // A fresh race: its own counters, at 0 in every process, for every strategy.
  function startRace() {
    return postJSON("/api/race/start").then(function (body) { return body.race; });
  }

  function finishRace(id) {
    return postJSON("/api/race/" + encodeURIComponent(id) + "/finish")
      .catch(function () { return null; }); // it expires by itself anyway
  }

  function race(id, name, clients) {
    var base = "/shared/" + encodeURIComponent(name);
    var ours = {"X-Race-Id": id};
    var answers, wall;
    var started = performance.now();
    var traced = Object.assign({"X-Race-Trace": "1"}, ours);
    return burst(clients, "POST", base + "/inc", traced).then(function (got) {
      answers = got;
      wall = (performance.now() - started) / 1000;
      return readBack(base, answers, [], READ_TRIES, ours);
    }).then(function (reads) {
      var body = {strategy: name, answers: answers, reads: reads, wall_time: wall};
      return fetch("/api/race/analyse", {
        method: "POST", credentials: "omit",
        headers: {"Content-Type": "application/json", Accept: "application/json"},
        body: JSON.stringify(body)});
    }).then(function (response) {
      return response.json().then(function (result) {
        if (!response.ok) throw new Error(result.message || "analysis failed");
        return {result: result, answers: answers};
      });
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // What a screen reader says for one box: "7, handed out 3 times".
  function meaning(value, times) {
    if (!times) return value + ", never handed out";
    return value + ", handed out " + (times === 1 ? "once" : times + " times");
  }

  // One box per number: its kind told by text and shape as well as colour (WCAG 1.4.1).
  function numberBox(value, times, className) {
    var box = element("li", (className || "race-box") + (times > 1 ? " dup" : times ? "" : " gap"));
    box.setAttribute("data-value", String(value));
    var shown = element("span", "", String(value));
    shown.setAttribute("aria-hidden", "true");
    if (times > 1) shown.appendChild(element("sup", "", "\u00d7" + times));
    box.appendChild(shown);
    box.appendChild(element("span", "visually-hidden", meaning(value, times)));
    return box;
  }

  function answered(answers) {
    return answers.filter(function (a) { return a.status === 200 && a.value !== null; });
  }

  function timesHandedOut(answers) {
    var counts = new Map();
    answered(answers).forEach(function (a) { counts.set(a.value, (counts.get(a.value) || 0) + 1); });
    return counts;
  }

  function numberBoxes(name, counts) {
    var list = element("ol", "race-numbers");
    list.setAttribute("aria-label", "numbers " + name + " handed out");
    if (!counts.size) return list;
    var values = Array.from(counts.keys()).sort(function (a, b) { return a - b; });
    var low = Math.min(1, values[0]), high = values[values.length - 1];
    var shown = values; // too wide a range: draw only the numbers handed out
    if (high - low < MAX_BOXES) {
      shown = [];
      for (var v = low; v <= high; v++) shown.push(v);
    }
    shown.forEach(function (value) {
      list.appendChild(numberBox(value, counts.get(value) || 0));
    });
    return list;
  }

  // Each answer under the process that gave it: which copy of the counter said what. The
  // heading names the process (not a colour); a box says how often its number was handed out.
  function byProcess(name, answers, counts) {
    var groups = new Map();
    answered(answers).forEach(function (a) {
      var pid = a.pid === null ? "unknown" : a.pid;
      if (!groups.has(pid)) groups.set(pid, []);
      groups.get(pid).push(a.value);
    });
    var part = element("div", "race-by-process");
    part.setAttribute("data-testid", "race-by-process-" + name);
    part.appendChild(element("h4", "", "The same numbers by the process that handed them out"));
    var pids = Array.from(groups.keys()).sort(function (a, b) { return a - b; });
    pids.forEach(function (pid) {
      var values = groups.get(pid).sort(function (a, b) { return a - b; });
      var group = element("section", "race-process");
      group.setAttribute("data-pid", String(pid));
      var heading = element("h5", "", "process " + pid + " (answered " + values.length + ")");
      heading.id = "race-" + name + "-process-" + pid;
      var list = element("ol", "race-numbers");
      list.setAttribute("aria-labelledby", heading.id);
      values.forEach(function (value) {
        list.appendChild(numberBox(value, counts.get(value), "race-answer"));
      });
      group.appendChild(heading);
      group.appendChild(list);
      part.appendChild(group);
    });
    return part;
  }

  // The words this verdict uses, as the server defines them (race/glossary.py).
  function verdictWords(name, terms) {
    var words = element("details", "race-terms");
    words.setAttribute("data-testid", "race-terms-" + name);
    words.appendChild(element("summary", "", "The words of this verdict: " +
      terms.map(function (t) { return t.term; }).join("; ")));
    var list = element("dl");
    terms.forEach(function (t) {
      list.appendChild(element("dt", "", t.term));
      list.appendChild(element("dd", "", t.definition));
    });
    words.appendChild(list);
    return words;
  }

  function draw(name, outcome, error) {
    var box = element("div", "race-result");
    box.setAttribute("data-testid", "race-result-" + name);
    var heading = element("h3");
    heading.appendChild(element("code", "", name));
    var verdict = element("span", "race-verdict");
    verdict.setAttribute("data-testid", "race-verdict-" + name);
    heading.appendChild(verdict);
    box.appendChild(heading);
    if (error) {
      verdict.textContent = "failed: " + error.message;
      box.setAttribute("data-exact", "false");
      return box;
    }
    var r = outcome.result;
    verdict.textContent = r.verdict;
    box.setAttribute("data-exact", String(r.exact && !r.inconclusive));
    if (r.terms && r.terms.length) box.appendChild(verdictWords(name, r.terms));
    box.appendChild(element("p", "note",
      r.sent + " sent, " + r.answers + " answered, " + r.distinct + " distinct, " +
      r.duplicates + " duplicates, " + r.gaps + " gaps; final value " +
      (r.final_value === null ? "unknown" : r.final_value) + ", lost updates " +
      (r.lost_updates === null ? "unknown" : r.lost_updates) + "; " + r.pids.length +
      " process(es); " + r.wall_time.toFixed(2) + " s" +
      (r.retries === null ? "" : "; " + r.retries + " retries (swaps lost to another " +
                                 "request, then tried again)")));
    if (r.reading) { // exact on a server its label does not cover: the reason, the command
      var reading = element("p", "reading");
      reading.setAttribute("data-testid", "race-reading-" + name);
      reading.appendChild(element("strong", "", r.reading.reading));
      reading.appendChild(document.createTextNode(": " + r.reading.reason + ": "));
      reading.appendChild(element("code", "", r.reading.command));
      box.appendChild(reading);
    }
    r.notes.forEach(function (note) { box.appendChild(element("p", "note", note)); });
    var counts = timesHandedOut(outcome.answers);
    box.appendChild(numberBoxes(name, counts));
    box.appendChild(byProcess(name, outcome.answers, counts));
    if (window.raceTimeline) box.appendChild(window.raceTimeline(name, r));
    return box;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (running) return; // the button stays focusable while racing: aria-disabled, not disabled
    var names = Array.from(form.querySelectorAll('input[name="strategy"]:checked'))
      .map(function (input) { return input.value; });
    var clients = Number(form.elements.clients.value);
    if (!Number.isInteger(clients) || clients < 1 || clients > MAX_CLIENTS) {
      status.textContent = "N must be a whole number from 1 to " + MAX_CLIENTS + ".";
      return;
    }
    if (!names.length) {
      status.textContent = "Pick at least one strategy.";
      return;
    }
    running = true;
    button.setAttribute("aria-disabled", "true");
    results.textContent = "";
    var verdicts = [];
    var id = null;
    var chain = startRace().then(function (started) { id = started; });
    names.forEach(function (name, i) {
      chain = chain.then(function () {
        status.textContent = "Racing " + name + " (" + (i + 1) + " of " + names.length +
                             ") with " + clients + " requests\u2026";
        return race(id, name, clients).then(function (outcome) {
          results.appendChild(draw(name, outcome));
          verdicts.push(name + ": " + outcome.result.verdict);
        }, function (error) {
          results.appendChild(draw(name, null, error));
          verdicts.push(name + ": failed");
        });
      });
    });
    chain.then(function () {
      // the status is a live region: this is what a screen reader announces at the end
      status.textContent = "Done, " + clients + " requests each. " + verdicts.join("; ") + ".";
    }, function (error) { // the race could not start (429: too many races at once)
      status.textContent = "The race did not start: " + error.message;
    }).then(function () {
      if (id) finishRace(id);
      button.removeAttribute("aria-disabled");
      running = false;
    });
  });
})();
