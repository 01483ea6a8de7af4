package api

import "net/http"

func (s *Server) registerBilling(mux *http.ServeMux) {}
