"""Reference responders: Lambda-style handlers built from the small steps in responders.lib."""
