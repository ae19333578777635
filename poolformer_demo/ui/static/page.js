// What the app's own markup (the pf- classes) does in the browser, and the looks that change
// without asking the server. Python wires these by name: an event's `js="(v) => PoolFormer.setHeatOpacity(v)"`,
// a gr.HTML's `js_on_load="PoolFormer.results(element, watch)"`. Functions used as an event's `js`
// return the event's outputs (an empty list when it has none).
window.PoolFormer = (() => {
  const root = document.documentElement;
  const query = new URLSearchParams(location.search);

  // Hidden controls and presenter mode are looks a link asks for: set before anything else draws.
  if (query.get("controls") === "hidden") root.dataset.pfControls = "hidden";
  if (query.get("present") === "on") root.dataset.pfPresent = "on";

  // The page's language: the browser's preferences go to the server, which chooses (a link's ?lang=
  // first); the chosen language's code, direction and the few words this script writes come back.
  const words = { scrolls: "Scrolls sideways", stopped: "stopped", example: "Example image: {name}" };
  let language = null;
  // An event's script returns its inputs: the one input here is the browser's languages, in order.
  const browserLanguages = () => [(navigator.languages && navigator.languages.length
    ? navigator.languages : [navigator.language || ""]).join(",")];
  const applyLanguage = () => {
    if (!language) return;
    if (root.lang !== language.lang) root.lang = language.lang;
    if (root.dir !== language.dir) root.dir = language.dir;
  };
  const setLanguage = (page) => {
    if (!page || !page.lang) return [];
    language = { lang: page.lang, dir: page.dir || "ltr" };
    Object.assign(words, page.words || {});
    applyLanguage();
    document.querySelectorAll("[data-pf-scrolls]").forEach((box) => box.setAttribute("aria-label", words.scrolls));
    return [];
  };
  // Gradio sets the document's lang to its own locale (the browser's); the page's choice wins.
  new MutationObserver(applyLanguage).observe(root, { attributes: true, attributeFilter: ["lang", "dir"] });

  // Page-wide settings, so they outlive new results.
  const setHeatOpacity = (opacity) => { root.style.setProperty("--pf-heat-opacity", opacity); return []; };
  const setExplainOpacity = (opacity) => { root.style.setProperty("--pf-explain-opacity", opacity); return []; };
  const setFeatureView = (view) => { root.dataset.pfView = view; return []; };
  const setCamMethod = (method) => { root.dataset.pfCam = method; return []; };
  const present = (on) => {
    if (on) root.dataset.pfPresent = "on";
    else delete root.dataset.pfPresent;
    return [];
  };

  // Explore's results: a click on a stage enlarges it, and the choice outlives new results.
  const results = (element, watch) => {
    const show = () => {
      const stage = element.dataset.stage || "4";
      const chosen = element.querySelector(`.pf-stage[data-stage="${stage}"]`);
      element.querySelectorAll(".pf-stage").forEach((b) => b.setAttribute("aria-pressed", String(b === chosen)));
      const large = element.querySelector(".pf-large .pf-heat");
      const heat = chosen && chosen.querySelector(".pf-heat");
      if (large && heat) { large.src = heat.src; large.alt = heat.alt; }
      const caption = element.querySelector(".pf-large-caption");
      if (caption && chosen) caption.textContent = chosen.dataset.caption;
    };
    element.addEventListener("click", (event) => {
      const button = event.target.closest(".pf-stage");
      if (!button) return;
      element.dataset.stage = button.dataset.stage;
      show();
    });
    watch("value", show);
    show();
  };

  // The receptive field: the cell under the pointer is outlined, and a click (or Enter on the
  // focused picture) sends the point as fractions (down, across) of the picture, which the server
  // maps to the stage's grid.
  const field = (element, trigger) => {
    const clamp = (v) => Math.min(Math.max(v, 0), 1);
    const frameOf = (event) => event.target.closest && event.target.closest(".pf-field-frame[data-rows]");
    const pointOf = (event, frame) => {
      const box = frame.getBoundingClientRect();
      return [clamp((event.clientY - box.top) / box.height), clamp((event.clientX - box.left) / box.width)];
    };
    const outline = (hover, y, x, rows, cols) => Object.assign(hover.style, {
      top: `${(100 * y) / rows}%`, left: `${(100 * x) / cols}%`,
      height: `${100 / rows}%`, width: `${100 / cols}%`, display: "block",
    });
    element.addEventListener("mousemove", (event) => {
      const frame = frameOf(event);
      const hover = element.querySelector(".pf-cell-hover");
      if (!hover) return;
      if (!frame) { hover.style.display = "none"; return; }
      const [down, across] = pointOf(event, frame);
      const rows = Number(frame.dataset.rows), cols = Number(frame.dataset.cols);
      outline(hover, Math.min(Math.floor(down * rows), rows - 1), Math.min(Math.floor(across * cols), cols - 1), rows, cols);
    });
    element.addEventListener("mouseleave", () => {
      const hover = element.querySelector(".pf-cell-hover");
      if (hover) hover.style.display = "none";
    });
    element.addEventListener("click", (event) => {
      const frame = frameOf(event);
      if (frame) trigger("select", { index: pointOf(event, frame), value: Number(frame.dataset.stage) });
    });
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    element.addEventListener("keydown", (event) => {
      const frame = frameOf(event);
      const hover = element.querySelector(".pf-cell-hover");
      if (!frame || !hover) return;
      const rows = Number(frame.dataset.rows), cols = Number(frame.dataset.cols);
      let y = Number(frame.dataset.ky ?? frame.dataset.y), x = Number(frame.dataset.kx ?? frame.dataset.x);
      if (event.key in moves) {
        event.preventDefault();
        y = Math.min(Math.max(y + moves[event.key][0], 0), rows - 1);
        x = Math.min(Math.max(x + moves[event.key][1], 0), cols - 1);
        frame.dataset.ky = y; frame.dataset.kx = x;
        outline(hover, y, x, rows, cols);
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        trigger("select", { index: [(y + 0.5) / rows, (x + 0.5) / cols], value: Number(frame.dataset.stage) });
      }
    });
  };

  // The lesson's list of steps: each step is a button that opens it (a click, or Enter or Space).
  const lessonSteps = (element, trigger) => {
    element.addEventListener("click", (event) => {
      const button = event.target.closest && event.target.closest("button[data-step]");
      if (button) trigger("select", { index: Number(button.dataset.step), value: Number(button.dataset.step) });
    });
  };

  // A box that scrolls sideways (a wide table on a narrow screen) is a region the keyboard can reach
  // and scroll; one that fits is left out of the tab order. Checked after each new value and resize.
  const SCROLLERS = "table, .pf-lesson-view, .pf-lab-control, :is(.pf-lab-row, .pf-faith-row, .pf-knockout-row) > div";
  const scrollable = (element, watch) => {
    const mark = () => element.querySelectorAll(SCROLLERS).forEach((box) => {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
        box.setAttribute("role", box.matches("table") ? "table" : "region");
        box.setAttribute("aria-label", words.scrolls);
        box.setAttribute("data-pf-scrolls", "");
      } else if (box.hasAttribute("tabindex")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("aria-label");
        box.removeAttribute("data-pf-scrolls");
        if (!box.matches("table")) box.removeAttribute("role");
      }
    });
    watch("value", mark);
    new ResizeObserver(mark).observe(element);
    mark();
  };

  // The lab's Stop: the rows still waiting say so at once; the server's last table is what it was.
  const markStopped = () => {
    document.querySelectorAll("#lab-live .pf-pending").forEach((cell) => { cell.textContent = words.stopped; });
    return [];
  };

  // The share link: the server made the query; the browser knows the address the page was served at.
  const copyLink = (query, note) => {
    const url = `${location.origin}${location.pathname}?${query}`;
    if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
    return [url, note];
  };

  // The block diagram: choosing a box shows its step's picture and says what the step does.
  const chooseBox = (chosen) => {
    const host = chosen.closest(".pf-diagram");
    if (!host) return;
    host.querySelectorAll(".pf-box").forEach((b) => b.setAttribute("aria-pressed", String(b === chosen)));
    const step = chosen.dataset.shows;
    host.querySelectorAll(".pf-pick").forEach((figure) => { figure.hidden = !step || figure.dataset.pick !== step; });
    const note = host.querySelector(".pf-pick-note");
    if (note) {
      note.replaceChildren();
      const name = document.createElement("b");
      name.textContent = `${chosen.dataset.label}: `;
      note.append(name, chosen.dataset.note);
    }
  };
  const boxOf = (event) => event.target.closest && event.target.closest(".pf-box");
  document.addEventListener("click", (event) => { const b = boxOf(event); if (b) chooseBox(b); });
  document.addEventListener("keydown", (event) => {
    const b = boxOf(event);
    if (b && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); chooseBox(b); }
  });

  // A before/after comparison wherever it is shown (Inside the block, the lesson): the range input,
  // moved by pointer or arrow keys, moves the line between the two pictures.
  document.addEventListener("input", (event) => {
    const range = event.target;
    if (!range.matches || !range.matches(".pf-split")) return;
    const frame = range.closest(".pf-compare")?.querySelector(".pf-compare-frame");
    if (frame) frame.style.setProperty("--pf-split", `${range.value}%`);
  });

  // The touchable token mixer: one tab stop in the grid of tokens (the chosen token); the arrow keys,
  // Home and End move it, Enter, Space or a click chooses. A choice moves the token's outline at once
  // and sends the token to the server as the view's select event: index [y, x], value the stage.
  const mixer = (element, trigger, watch) => {
    const gridOf = (node) => node && node.closest && node.closest('.pf-mixer-grid');
    const cellOf = (node) => node && node.closest && node.closest('.pf-mixer-grid [role="gridcell"]');
    const indexIn = (node) => Array.prototype.indexOf.call(node.parentElement.children, node);
    const where = (cell) => [indexIn(cell.parentElement), indexIn(cell)];
    const sizeOf = (grid) => [Number(grid.dataset.rows), Number(grid.dataset.cols)];
    const rove = (grid, cell) => {
      grid.querySelectorAll('[role="gridcell"][tabindex="0"]').forEach((c) => c.setAttribute('tabindex', '-1'));
      const [y, x] = where(cell);
      cell.setAttribute('tabindex', '0');
      cell.setAttribute('aria-label', `y ${y}, x ${x}`);
      cell.focus();
    };
    let refocus = false;
    const choose = (cell) => {
      const grid = gridOf(cell);
      const [y, x] = where(cell), [rows, cols] = sizeOf(grid);
      grid.querySelectorAll('[aria-selected="true"]').forEach((c) => c.removeAttribute('aria-selected'));
      cell.setAttribute('aria-selected', 'true');
      // The token's outline moves at once; the window's follows with the server's answer.
      const token = grid.parentElement.querySelector('.pf-mixer-token');
      if (token) Object.assign(token.style, {top: `${100 * y / rows}%`, left: `${100 * x / cols}%`,
        height: `${100 / rows}%`, width: `${100 / cols}%`});
      refocus = document.activeElement === cell;
      trigger('select', {index: [y, x], value: Number(grid.dataset.stage)});
    };
    element.addEventListener('click', (event) => {
      const cell = cellOf(event.target);
      if (!cell) return;
      rove(gridOf(cell), cell);
      choose(cell);
    });
    const moves = {ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1]};
    element.addEventListener('keydown', (event) => {
      const cell = cellOf(event.target);
      if (!cell) return;
      const grid = gridOf(cell), [rows, cols] = sizeOf(grid);
      let [y, x] = where(cell);
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); choose(cell); return; }
      if (event.key in moves) { y += moves[event.key][0]; x += moves[event.key][1]; }
      else if (event.key === 'Home') x = 0;
      else if (event.key === 'End') x = cols - 1;
      else return;
      event.preventDefault();
      y = Math.min(Math.max(y, 0), rows - 1);
      x = Math.min(Math.max(x, 0), cols - 1);
      rove(grid, grid.children[y].children[x]);
    });
    // The server's answer replaces the view; a keyboard user's focus comes back to the chosen token.
    if (typeof watch === 'function') watch('value', () => {
      if (!refocus) return;
      refocus = false;
      const chosen = element.querySelector('.pf-mixer-grid [role="gridcell"][tabindex="0"]');
      if (chosen) chosen.focus();
    });
  };

  return {
    browserLanguages, setLanguage, words,
    setHeatOpacity, setExplainOpacity, setFeatureView, setCamMethod, present,
    results, field, lessonSteps, scrollable, markStopped, copyLink, mixer,
  };
})();
