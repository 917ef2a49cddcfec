#include "axiom_bpf.h"
BPF_MAP_DEF(lonely, BPF_MAP_TYPE_ARRAY, 4, 8, 1);
