"""BPF maps (ABI section 5): one module per map type, plus `MapTable`."""

from kernel.bpf.maps.array import ArrayMap
from kernel.bpf.maps.base import BpfMap
from kernel.bpf.maps.hash import HashMap
from kernel.bpf.maps.ringbuf import RingBufMap, record_size
from kernel.bpf.maps.table import MapTable
from kernel.bpf.maps.timeseries import TimeseriesMap

__all__ = [
    "ArrayMap",
    "BpfMap",
    "HashMap",
    "MapTable",
    "RingBufMap",
    "TimeseriesMap",
    "record_size",
]
