"""Official documents: PDF rendering with WeasyPrint, templates, numbering, amounts in Chinese
capitals, storage with SHA-256, the background job that renders a document issued on its own,
and the start-up check for HarfBuzz subsetting."""
