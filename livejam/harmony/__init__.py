"""The harmony the left hand holds below the split, and how livejam's voices move within it."""
