"""What is kept on disk and read back: checkpoints, run folders (written as a run
trains, read by the Compare page), run files (.sganrun) and the recorded runs opened
from them; one atomic write and one size-capped read.
"""
