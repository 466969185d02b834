"""WhatsApp Web simulator: a local stand-in for web.whatsapp.com.

``from simulator import Simulator`` — see docs/simulator.md. Imports nothing of
the product; standard library only.
"""

from simulator.server import ConfigError, Simulator

__all__ = ["ConfigError", "Simulator"]
