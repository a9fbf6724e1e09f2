"""Citizen reception, complaint and denunciation service (tiếp công dân, giải quyết khiếu nại, tố cáo)."""
