"""minilib printf (userspace/minilib/print.c): width, precision, flags, l/ll/z, and
an unsupported conversion printing "%?" without shifting the remaining arguments."""

from __future__ import annotations

from emulator.testing import boot

EXPECTED = """\
%-4s -> [ab  ]
%4s -> [  ab]
%.3s -> [abc]
%-6.2s -> [xy    ]
%8lu -> [ 1234567]
%-8lu -> [42      ]
%08lx -> [0000beef]
%lx -> [fedcba9876543210]
%llu -> [18446744073709551615]
%lld -> [-9223372036854775808]
%zu -> [4096]
%zx -> [1000]
%5d -> [  -42]
%-5d -> [-42  ]
%05d -> [-0042]
%+d -> [+7]
% d -> [ 7]
%.4d -> [0007]
%6.3d -> [  -007]
%i -> [-2147483648]
%u -> [4294967295]
%X -> [ABCDEF]
%x 0 -> [0]
%*d -> [    99]
%-*d -> [99    ]
%3c -> [  z]
%-3c -> [z  ]
%p -> [0x1000]
%s NULL -> [(null)]
%q|%d -> [%?|5]
snprintf -> [abc   |] 11
"""


def test_printf_formats(arch: str) -> None:
    vm = boot(arch, append="/bin/t_printf")
    assert vm.run_to_end(timeout=10) == 0
    out = vm.user_output
    start = out.index("Spawned t_printf with PID: 2\n") + len("Spawned t_printf with PID: 2\n")
    assert out[start:].split("\n")[: EXPECTED.count("\n")] == EXPECTED.split("\n")[:-1]
