"""Support tickets: customers ask, operators answer."""
