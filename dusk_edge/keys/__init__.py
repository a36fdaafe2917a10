"""Keys and custody: encrypted keystore, PKCS#11 token backend, double-sign guard, signers.

Public entry points:
  keystore.create_keystore / open_keystore / reseal_keystore   (docs/keystore.md)
  pkcs11_token.open_token, resolve_pin                          (owner key + consensus-key KEK)
  guard.DoubleSignGuard, duplicate.DuplicateInstanceGuard      (docs/guard-format.md)
  signer.LocalSigner, remote_client.RemoteSigner                (the Signer interface)
  remote_server.serve_unix / serve_serial                       (docs/remote-signer.md)
"""
