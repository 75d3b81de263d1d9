"""Official documents: PDF rendering with WeasyPrint, templates, numbering, amounts in Chinese
capitals, storage with SHA-256, and the start-up check for HarfBuzz subsetting."""
