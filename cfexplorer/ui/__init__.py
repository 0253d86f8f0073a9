"""Everything that imports Qt: table model, undo commands, worker, widgets."""
