"""newsmonitor: watch news feeds, match rules, store hits and send alerts."""

__version__ = "0.1.0"
