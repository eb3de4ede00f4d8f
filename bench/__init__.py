"""`make bench`: speed, scale and memory of guidebot against a bare baseline measured in the same run."""
