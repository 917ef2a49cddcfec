"""What a running program calls: helpers, their prototypes, maps and the environment.

`helpers` (the helper table, reading memory through `interp.memory`), `helper_protos`
(arguments and returns, for the verifier), `env` (the `HelperEnv`/`BpfDevices`
protocols the kernel implements), `maps/`, `printk` (trace_printk's format rules,
shared with the verifier's constant-format check) and `old_helper_ids` (the
pre-HEAD helper numbering hint for verifier logs).
"""
