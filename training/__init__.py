"""FER2013 training, evaluation and export for fer-live (see training/README.md)."""
import os

# On a CPU shared with other jobs, OpenMP's default busy-waiting burns half of the cycles this
# process gets (measured: 103 vs 215 training images per CPU-second with 2 threads under load).
# Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
