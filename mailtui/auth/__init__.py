"""OAuth2 sign-in for mail accounts: the device authorization grant (RFC 8628,
``device.py``), the authorization code grant with PKCE and a loopback redirect (RFC 8252,
``loopback.py``), and refresh (``client.py``); provider presets as data
(``providers.toml``, read by ``providers.py``).

Plain HTTP to the provider's endpoints (httpx, imported only when a request is made).
Nothing here stores a token (``mailtui.secrets`` keeps them in the keyring) or reads the
config (``mailtui.config`` builds the ``Client`` from an account's
``[accounts.<name>.oauth]`` table). The package imports nothing of its own on purpose:
the config reader needs only ``providers``.
"""
