#!/bin/sh
echo "biscotti: coverage tools are not available offline" >&2
exit 1
