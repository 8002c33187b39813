"""What every command shares: flags, the error wrapper, console output, atomic writes."""
