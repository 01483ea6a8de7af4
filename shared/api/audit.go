package api

import "net/http"

func (s *Server) registerAuditLog(mux *http.ServeMux) {}
