"""Built-in presets and icons (installed as ``cfexplorer.resources``)."""
