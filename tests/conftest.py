import os
import sys
from pathlib import Path

# Figures are drawn off-screen in tests.
os.environ.setdefault("MPLBACKEND", "Agg")
# Test helpers (the simulated class) import as plain modules.
sys.path.insert(0, str(Path(__file__).parent))
