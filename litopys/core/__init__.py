"""The ground every layer stands on: settings, typed errors, file integrity, model download from the Hub."""
