"""Test support shared across directories: real servers the suite starts and stops itself."""
