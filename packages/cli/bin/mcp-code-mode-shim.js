#!/usr/bin/env node
import '../dist/shim-bin.js';
