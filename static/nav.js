// Marks where the person is in the side menu (Account, Administration): the link to this page,
// or to the section it belongs to, gets aria-current="page" (and its style).
(function () {
  'use strict';
  var here = window.location.pathname;
  var best = null;
  document.querySelectorAll('aside a[href^="/"]').forEach(function (a) {
    var path = a.getAttribute('href');
    var inside = here === path || here.indexOf(path.replace(/\/$/, '') + '/') === 0;
    if (inside && (!best || path.length > best.getAttribute('href').length)) best = a;
  });
  if (best) best.setAttribute('aria-current', 'page');
})();
