// Keyboard help for the goods forms' item rows, parts shown only when they apply, and a
// live donor search. All optional: the forms work the same without JavaScript.
//
// A barcode or QR scanner types the label code and presses Enter. Enter in an item box
// moves to that row's quantity; Enter in a quantity box moves to the next row's item
// (on the last row it asks the server for more rows, keeping what was typed).
(function () {
  "use strict";

  // --- rows ---------------------------------------------------------------

  function nextRow(row) {
    let next = row.nextElementSibling;
    while (next && !next.matches("[data-line-row]")) next = next.nextElementSibling;
    return next;
  }

  const labelCache = new Map();

  // "SOCKS-M" or "Socks (M) — SOCKS-M" -> "Socks (M)", from the rows' <datalist>.
  function labels(list) {
    if (!labelCache.has(list)) {
      const map = new Map();
      for (const option of list.options) {
        const parts = option.value.split(" — ");
        const code = parts.pop();
        const label = parts.join(" — ");
        map.set(code.toUpperCase(), label);
        map.set(option.value.toUpperCase(), label);
        map.set(label.toUpperCase(), label);
      }
      labelCache.set(list, map);
    }
    return labelCache.get(list);
  }

  // Show the item a row names beside it; keepServerName leaves the server's text if unknown.
  function showName(input, keepServerName) {
    const row = input.closest("[data-line-row]");
    const box = row && row.querySelector('[data-line="name"]');
    if (!box || !input.list) return;
    const text = input.value.trim().toUpperCase();
    const label = text ? labels(input.list).get(text) || "" : "";
    if (label || !keepServerName) box.textContent = label;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing) return;
    if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    const input = event.target;
    if (!(input instanceof HTMLInputElement)) return;
    const role = input.getAttribute("data-line");
    const row = input.closest("[data-line-row]");
    if (!row || (role !== "item" && role !== "quantity")) return;
    event.preventDefault();
    if (role === "item") {
      showName(input);
      const quantity = row.querySelector('[data-line="quantity"]');
      if (quantity) {
        quantity.focus();
        quantity.select();
      }
      return;
    }
    const next = nextRow(row);
    if (next) {
      const box =
        next.querySelector('[data-line="item"]') || next.querySelector('[data-line="quantity"]');
      if (box) box.focus();
      return;
    }
    const form = input.form;
    const more = form && form.querySelector('button[name="add_rows"]');
    if (more) {
      more.click();
    } else {
      const submit = form && form.querySelector('button[type="submit"]');
      if (submit) submit.focus();
    }
  });

  document.addEventListener("change", function (event) {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.getAttribute("data-line") === "item") {
      showName(input);
    }
  });
  for (const input of document.querySelectorAll('input[data-line="item"]')) {
    if (input.value) showName(input, true);
  }

  // --- parts shown only for a choice: data-show-for="source=donor" ------------

  function currentValue(name) {
    let value = "";
    for (const field of document.getElementsByName(name)) {
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) value = field.value;
      } else {
        value = field.value;
      }
    }
    return value;
  }

  function updateShown() {
    for (const part of document.querySelectorAll("[data-show-for]")) {
      const [name, wanted] = part.getAttribute("data-show-for").split("=");
      part.hidden = currentValue(name) !== wanted;
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.name) updateShown();
  });
  updateShown();

  // --- donor search (intake): choose a donor without leaving the page ---------

  const search = document.querySelector("form[data-donor-search]");
  if (!search || !window.fetch) return;
  const url = search.getAttribute("data-lookup-url");
  const input = document.querySelector('input[form="' + search.id + '"][name="q"]');
  const results = document.querySelector("[data-donor-results]");
  const hidden = document.getElementById("donor_id");
  const chosen = document.querySelector("[data-donor-chosen]");
  const chosenName = document.querySelector("[data-donor-name]");
  if (!input || !results || !hidden || !chosen || !chosenName) return;
  const hint = document.getElementById(input.id + "-hint");
  let timer = null;
  let asked = "";

  function message(text) {
    const p = document.createElement("p");
    p.className = "muted small";
    p.textContent = text;
    results.replaceChildren(p);
  }

  function choose(donor) {
    hidden.value = String(donor.id);
    chosenName.textContent = donor.name;
    chosen.hidden = false;
    if (hint) hint.textContent = "Search to choose a different donor.";
    const radio = document.querySelector('input[name="source"][value="donor"]');
    if (radio) radio.checked = true;
    updateShown();
    results.replaceChildren();
    input.value = "";
    asked = "";
    chosen.focus();
  }

  function show(q, donors) {
    if (!donors.length) {
      message("No donor's name contains “" + q + "”. Try part of the name.");
      return;
    }
    const list = document.createElement("ul");
    list.className = "donor-results";
    for (const donor of donors) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "small secondary";
      button.textContent = "Choose";
      const hiddenName = document.createElement("span");
      hiddenName.className = "visually-hidden";
      hiddenName.textContent = " " + donor.name;
      button.append(hiddenName);
      button.addEventListener("click", function () {
        choose(donor);
      });
      item.append(button, " " + donor.name + (donor.is_organization ? " (organisation)" : ""));
      list.append(item);
    }
    results.replaceChildren(list);
  }

  function lookup() {
    const q = input.value.trim();
    if (q === asked) return;
    asked = q;
    if (!q) {
      results.replaceChildren();
      return;
    }
    fetch(url + "?q=" + encodeURIComponent(q), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        if (input.value.trim() === q) show(q, data.results || []);
      })
      .catch(function () {
        asked = "";
        message("The search did not answer; press Search to try again.");
      });
  }

  search.addEventListener("submit", function (event) {
    event.preventDefault();
    asked = "";
    lookup();
  });
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 250);
  });
  results.setAttribute("aria-live", "polite");
})();
