"""Readers and writers of rating files. Never imports Qt."""
