// Layout checks run in the page next to axe-core; each returns a list of problems.
window.pageChecks = {
  // How far the page scrolls sideways, naming the element that sticks out furthest.
  sideways() {
    const root = document.documentElement;
    const overflow = root.scrollWidth - root.clientWidth;
    if (overflow <= 0) return [];
    let widest = null;
    for (const el of document.body.querySelectorAll("*")) {
      const right = el.getBoundingClientRect().right;
      if (right > root.clientWidth && (!widest || right > widest.right)) widest = {el, right};
    }
    return [`${root.clientWidth} px wide: scrolls sideways by ${overflow} px at ${describe(widest && widest.el)}`];
  },

  // Scroll containers a keyboard cannot reach: neither focusable nor holding anything
  // focusable. Checked whether or not they overflow with this page's data (axe checks
  // only those that do), so a table that grows later is covered too.
  unreachableScrollers() {
    const focusable = "a[href], button, input, select, textarea, summary, [tabindex]";
    const scrolls = (value) => value === "auto" || value === "scroll";
    const found = [];
    for (const el of document.body.querySelectorAll("*")) {
      const style = getComputedStyle(el);
      if (!scrolls(style.overflowX) && !scrolls(style.overflowY)) continue;
      if ((el.matches(focusable) && el.tabIndex >= 0) || el.querySelector(focusable)) continue;
      found.push(`scrolls but takes no keyboard focus: ${describe(el)}`);
    }
    return found;
  },

  // Controls smaller than 24 x 24 CSS px (WCAG 2.2, 2.5.8) without the spacing exception
  // axe allows: the menu, buttons and form fields. A checkbox or radio counts together
  // with the label wrapping it.
  smallTargets() {
    const controls = "header a, header button, button, a.button, summary, select, textarea, "
      + "input:not([type=hidden])";
    const found = [];
    for (const el of document.querySelectorAll(controls)) {
      const box = el.getBoundingClientRect();
      if (!box.width && !box.height) continue;  // not shown
      let {width, height} = box;
      const label = el.matches("[type=checkbox], [type=radio]") && el.closest("label");
      if (label) {
        const around = label.getBoundingClientRect();
        [width, height] = [Math.max(width, around.width), Math.max(height, around.height)];
      }
      if (width < 24 || height < 24) {
        found.push(`target under 24x24 px: ${describe(el)} ${Math.round(width)}x${Math.round(height)}`);
      }
    }
    return found;
  },
};

function describe(el) {
  if (!el) return "?";
  const text = (el.textContent || el.name || "").trim().replace(/\s+/g, " ").slice(0, 24);
  return `${el.tagName.toLowerCase()}${el.className ? "." + el.className : ""} "${text}"`;
}
