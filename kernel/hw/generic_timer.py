"""ARM generic timer: CNTP_CTL_EL0 bits and the EL1 physical timer's interrupt."""

CTL_ENABLE = 1 << 0
CTL_IMASK = 1 << 1
CTL_ISTATUS = 1 << 2
PHYS_TIMER_PPI = 30  # INTID of the EL1 physical timer (PPI 14), as the SBSA assigns it
