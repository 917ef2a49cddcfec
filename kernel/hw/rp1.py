"""Raspberry Pi 5 RP1 registers: GPIO bank 0 (pinctrl-rp1 layout) and the PWM
controllers (BCM2835-style layout), as axiomOS's `rpi5/gpio.rs` and `pwm.rs` use them.
"""

# GPIO bank 0: a STATUS and a CTRL register per pin, 8 bytes apart.
NUM_PINS = 28
STRIDE = 8
STATUS, CTRL = 0x0, 0x4
GPIO_SIZE = 0x4000
LEVEL_BIT = 1 << 17  # STATUS: the pad level
EV_FALL, EV_RISE, EV_LOW, EV_HIGH = 1 << 20, 1 << 21, 1 << 22, 1 << 23  # STATUS events,
EDGE_EVENTS = EV_FALL | EV_RISE  # and in CTRL the matching interrupt enables
EVENT_MASK = 0xF << 20
FUNCSEL_MASK = 0x1F  # CTRL bits 4:0
FUNC_INPUT, FUNC_OUTPUT = 0, 1
OUTOVER_SHIFT = 13  # CTRL bits 14:13
OUTOVER_MASK = 3
OUTOVER_LOW, OUTOVER_HIGH = 2, 3
IRQRESET = 1 << 28  # CTRL: write 1 to clear the pin's latched edge events

# PWM: CTL, STA (write 1 to clear), range and data per channel.
CTL, STA, RNG1, DAT1, RNG2, DAT2 = 0x00, 0x04, 0x10, 0x14, 0x20, 0x24
PWM_SIZE = 0x4000
RNG = {1: RNG1, 2: RNG2}
DAT = {1: DAT1, 2: DAT2}
PWEN = {1: 1 << 0, 2: 1 << 8}  # channel enable
MSEN = {1: 1 << 7, 2: 1 << 15}  # mark-space mode
RESET_RANGE = 0x20  # RNG after reset
PWM_CLOCK_HZ = 125_000_000  # the PWM clock: one range count is PWM_TICK_NS
PWM_TICK_NS = 8
