"""Everything that is neither wire nor pixels: settings, credentials, the watchlist, polling."""
