"""Executable conformity scenarios, one module per REM chapter, each bound to REM requirement and scenario ids."""
