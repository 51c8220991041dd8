"""The conversation: the engine thread, calls, phrase ends, answers and their steering."""
