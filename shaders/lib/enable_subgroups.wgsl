// Listed first among a shader's includes: WGSL directives must precede every declaration.
enable subgroups;
