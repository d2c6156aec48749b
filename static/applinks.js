// Create link → Outgoing: shows the redirect URI to register at the remote as soon as the
// authorization endpoint is entered (or a provider preset is picked). Junction derives it from
// the endpoint; this only asks the server, so there is one derivation.
(function () {
  'use strict';
  var form = document.getElementById('outgoing-form');
  var out = document.getElementById('redirect-uri-live');
  if (!form || !out) return;
  function update() {
    var params = new URLSearchParams({
      preset: form.elements.preset.value,
      authorizationEndpoint: form.elements.authorization_endpoint.value
    });
    fetch('/rest/junction/1.0/applinks/redirect-uri?' + params, { credentials: 'same-origin' })
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (res) {
        out.textContent = res[0] ? res[1].redirectUri
          : 'Enter the authorization endpoint to see the redirect URI.';
      });
  }
  form.elements.preset.addEventListener('change', update);
  form.elements.authorization_endpoint.addEventListener('input', update);
  update();
})();
