"""Letta's current API generation (the one ``letta-client`` 1.x speaks), served beside 0.8's.

Routes here are new paths over the same services; behaviours that differ on shared paths are decided
per request by ``generation.is_v1``.
"""
