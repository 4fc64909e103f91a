"""Wire shapes of Letta's 1.x API generation that differ from 0.8's."""
