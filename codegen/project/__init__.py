"""PlatformIO project generation for a (model, board) pair, offline PlatformIO set-up, and emulator control."""

from codegen.project.writer import GeneratedProject, TemplateContext, generate_project, render_project

__all__ = ["GeneratedProject", "TemplateContext", "generate_project", "render_project"]
