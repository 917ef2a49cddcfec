"""The kernel side of BPF: loaded programs, attachments, pins and the hooks.

`registry` (`BpfSubsystem`: maps, programs, pins, per-attach-point attachment lists
and `run_hook`), `hooks` (`BpfHooks`: the kernel's hook points, which build each
attach point's context and payload) and `helper_env` (what helpers see of the
kernel and, on rpi5, of its GPIO/PWM drivers). The library in `kernel/bpf/` knows
nothing of this package; sys_bpf and the trap, IRQ and scheduler paths call it.
"""
