"""Theme Park Downtime Tracker: ride reliability from Queue-Times.com data."""

__version__ = "0.1.0"
