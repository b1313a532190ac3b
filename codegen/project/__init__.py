"""PlatformIO project generation for a (model, board) pair, offline PlatformIO set-up, emulator control."""

from codegen.project.writer import GeneratedProject, TemplateContext, generate_project, render_project

__all__ = ["GeneratedProject", "TemplateContext", "generate_project", "render_project"]
