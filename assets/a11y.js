/* Accessibility repairs the Dash components do not make themselves (issue 29), kept in one place:
   - <html lang>: the page's language from its address (?lang=da), also after in-app navigation
     (the server writes it into the first HTML too: app.py);
   - Dash's dropdowns put a hidden (aria-hidden) but focusable input in the tab order that hands the
     focus on to the dropdown's button: the button itself becomes the tab stop instead, and the hidden
     input leaves the tab order (a screen reader never lands on an element it cannot read);
   - the date picker's outer box carries aria-expanded/aria-haspopup without a role (a critical
     ARIA error): the input inside is what readers use, so those attributes go from the box;
   - the language link follows the address as it is now (hash and query), not as it was when the
     page loaded: a view built by clicking survives a change of language. */
(function () {
  function pageLang() {
    var m = /[?&]lang=([a-z]{2})\b/.exec(window.location.search);
    return m && m[1] === 'da' ? 'da' : 'en';
  }

  // The address of this view in the other language: the same path, query and hash, lang swapped.
  function otherLanguageAddress(loc, lang) {
    var params = new URLSearchParams(loc.search);
    params.set('lang', lang);
    return loc.pathname + '?' + params.toString() + loc.hash;
  }
  window.atlasOtherLanguageAddress = otherLanguageAddress;

  function followAddress(link) {
    var target = link.getAttribute('lang') === 'da' ? 'da' : 'en';
    var href = otherLanguageAddress(window.location, target);
    if (link.getAttribute('href') !== href) { link.setAttribute('href', href); }
  }

  function repair(root) {
    var lang = pageLang();
    if (document.documentElement.getAttribute('lang') !== lang) { document.documentElement.setAttribute('lang', lang); }
    root.querySelectorAll('.dash-dropdown-focus-target').forEach(function (input) {
      if (input.getAttribute('tabindex') !== '-1') { input.setAttribute('tabindex', '-1'); }
      var button = input.nextElementSibling;
      if (button && button.tagName === 'BUTTON' && !button.disabled && button.getAttribute('tabindex') !== '0') {
        button.setAttribute('tabindex', '0');
      }
    });
    root.querySelectorAll('.dash-datepicker-input-wrapper[aria-expanded], .dash-datepicker-input-wrapper[aria-haspopup]')
      .forEach(function (box) {
        if (!box.getAttribute('role')) { box.removeAttribute('aria-expanded'); box.removeAttribute('aria-haspopup'); }
      });
    var link = document.getElementById('lang-switch');
    if (link) { followAddress(link); }
  }

  function start() {
    repair(document);
    var pending = false;
    new MutationObserver(function () {
      if (pending) { return; }
      pending = true;
      window.requestAnimationFrame(function () { pending = false; repair(document); });
    }).observe(document.body, {childList: true, subtree: true, attributes: true,
                               attributeFilter: ['tabindex', 'aria-expanded', 'aria-haspopup']});
    // the address changes without a page load (Dash writes the view into the hash): follow it at
    // once, and again at the moment the link is used (pointer, keyboard, touch, context menu)
    ['hashchange', 'popstate'].forEach(function (name) { window.addEventListener(name, function () { repair(document); }); });
    ['pointerdown', 'focusin', 'mouseover', 'click', 'contextmenu', 'touchstart'].forEach(function (name) {
      document.addEventListener(name, function (e) {
        var link = e.target && e.target.closest && e.target.closest('#lang-switch');
        if (link) { followAddress(link); }
      }, true);
    });
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
