"""HPET registers (64-bit) used here: capabilities, configuration, main counter."""

GCAP_ID = 0x000
GEN_CONF = 0x010
MAIN_COUNTER = 0x0F0
SIZE = 0x400

GEN_CONF_ENABLE = 1
PERIOD_FS = 1_000_000  # the counter's period in GCAP_ID: 1 ns
