# Operations around the node: systemd notify, metrics, logs. Thin, I/O-only.
