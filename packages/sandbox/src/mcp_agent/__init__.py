"""The runtime agent inside each sandbox container (private: sandbox code uses ``mcp``).

``main.main()`` moves the protocol off fds 0/1/2, says ``ready``, then runs each ``execute``.
"""

AGENT_VERSION = "0.1.0"
